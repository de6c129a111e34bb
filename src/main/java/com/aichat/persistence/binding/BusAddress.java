package com.aichat.persistence.binding;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The event-bus address an interface is served on (one of {@link com.aichat.contract.Addresses}). The
 * client ({@link BusProxy}) sends each of the interface's methods there; the server
 * ({@link BusService}) consumes it.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface BusAddress {
  String value();
}
