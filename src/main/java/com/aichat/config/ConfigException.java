package com.aichat.config;

/** A configuration value is missing or invalid. The message names the key and the environment variable. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
