package com.aichat.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line must be a
 * {@code # HELP}, {@code # TYPE} or other comment, or a sample {@code name{label="value",...} value
 * [timestamp]}; anything else is an error naming the line.
 */
final class PromText {

  record Sample(String name, Map<String, String> labels, double value) {}

  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final String LABEL_VALUE = "\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
  private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=" + LABEL_VALUE;
  private static final String NUMBER = "(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]?Inf|NaN)";
  private static final Pattern SAMPLE = Pattern.compile(
      "(" + NAME + ")(\\{(?:" + LABEL + "(?:," + LABEL + ")*,?)?\\})? (" + NUMBER + ")(?: -?\\d+)?");
  private static final Pattern ONE_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=(" + LABEL_VALUE + ")");
  private static final Pattern HELP = Pattern.compile("# HELP " + NAME + "(?: .*)?");
  private static final Pattern TYPE = Pattern.compile("# TYPE " + NAME + " (?:counter|gauge|histogram|summary|untyped)");

  private final List<Sample> samples;

  private PromText(List<Sample> samples) {
    this.samples = samples;
  }

  static PromText parse(String text) {
    List<Sample> out = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty() && i == lines.length - 1) {
        continue; // the text ends with a newline
      }
      if (line.startsWith("# HELP ") ? HELP.matcher(line).matches()
          : line.startsWith("# TYPE ") ? TYPE.matcher(line).matches()
          : line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("line " + (i + 1) + " is not in the exposition format: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = ONE_LABEL.matcher(m.group(2));
        while (l.find()) {
          String raw = l.group(2);
          labels.put(l.group(1), raw.substring(1, raw.length() - 1)
              .replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\"));
        }
      }
      String v = m.group(3);
      double value = v.endsWith("Inf") ? (v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
          : Double.parseDouble(v);
      out.add(new Sample(m.group(1), labels, value));
    }
    return new PromText(out);
  }

  List<Sample> samples() {
    return samples;
  }

  /** The sum of the samples named {@code name} whose labels include {@code labels} (k1, v1, k2, v2...). */
  double sum(String name, String... labels) {
    double total = 0;
    for (Sample s : samples) {
      if (s.name().equals(name) && matches(s, labels)) {
        total += s.value();
      }
    }
    return total;
  }

  boolean has(String name, String... labels) {
    return samples.stream().anyMatch(s -> s.name().equals(name) && matches(s, labels));
  }

  boolean hasPrefix(String prefix) {
    return samples.stream().anyMatch(s -> s.name().startsWith(prefix));
  }

  private static boolean matches(Sample s, String... labels) {
    for (int i = 0; i + 1 < labels.length; i += 2) {
      if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
        return false;
      }
    }
    return true;
  }
}
