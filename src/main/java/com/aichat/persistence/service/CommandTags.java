package com.aichat.persistence.service;

import com.mongodb.event.CommandEvent;
import com.mongodb.event.CommandStartedEvent;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.mongodb.DefaultMongoCommandTagsProvider;
import io.micrometer.core.instrument.binder.mongodb.MongoCommandTagsProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * The tags of {@code mongodb_driver_commands_seconds}: Micrometer's defaults ({@code command},
 * {@code collection}, {@code server.address}, {@code status}) without {@code cluster.id}, an
 * ObjectId the driver draws anew for every client, which would start new series at each restart
 * and put an id in a label.
 */
final class CommandTags implements MongoCommandTagsProvider {

  private final DefaultMongoCommandTagsProvider defaults = new DefaultMongoCommandTagsProvider();

  @Override
  public void commandStarted(CommandStartedEvent event) {
    defaults.commandStarted(event);
  }

  @Override
  public Iterable<Tag> commandTags(CommandEvent event) {
    List<Tag> tags = new ArrayList<>(5);
    for (Tag tag : defaults.commandTags(event)) {
      if (!tag.getKey().equals("cluster.id")) {
        tags.add(tag);
      }
    }
    return tags;
  }
}
