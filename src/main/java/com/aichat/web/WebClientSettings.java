package com.aichat.web;

import com.aichat.config.ConfigReader;

/**
 * {@code webclient.*}: the reference web client the HTTP API serves at {@code /}.
 *
 * @param enabled {@code webclient.enabled} (default {@code true}): serve the page at {@code /}, its
 *     modules under {@code /app/}, the socket.io-client bundle under {@code /vendor/} and
 *     {@code GET /app/config.json}; while the generated dev secret is in use, also the one-click
 *     {@code POST /dev/token} sign-in. Off: those paths are 404.
 * @param gatewayUrl {@code webclient.gateway_url} (default empty): the Socket.IO URL the page connects
 *     to; empty means the page's own host name on {@code gateway.port} (e.g.
 *     {@code http://localhost:8081}). Set it when the gateway is reached through a proxy or another host.
 * @param markdownMaxQuoteDepth {@code webclient.markdown_max_quote_depth} (default 32, 1-256): the deepest
 *     block-quote nesting the page's Markdown renderer formats; deeper {@code >} markers show as text.
 *     It bounds the renderer's recursion, so content cannot overflow the browser's stack (issue 24
 *     finding 7); passed to the page in {@code GET /app/config.json}.
 */
public record WebClientSettings(boolean enabled, String gatewayUrl, int markdownMaxQuoteDepth) {

  public static final int DEFAULT_MARKDOWN_MAX_QUOTE_DEPTH = 32;

  public static WebClientSettings from(ConfigReader r) {
    return new WebClientSettings(r.bool("enabled", true), r.optUrl("gateway_url"),
        r.intValue("markdown_max_quote_depth", DEFAULT_MARKDOWN_MAX_QUOTE_DEPTH, 1, 256));
  }
}
