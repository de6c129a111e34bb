# Build stage: compile and package the runnable jar (tests run in CI, not in the image build).
FROM maven:3.9-eclipse-temurin-17 AS build
# npm: the build copies the socket.io-client browser bundle for the web client from its npm package.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY conf conf
COPY src src
RUN mvn -B -q package -DskipTests

# Runtime stage: a JRE, the jar and the default configuration.
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home /app chat && mkdir -p /app/data && chown -R chat /app
WORKDIR /app
COPY --from=build /src/target/chat-service.jar /app/chat-service.jar
COPY conf /app/conf
USER chat
# 8080: REST API; 8081: Socket.IO gateway. ./data holds the embedded store and the dev JWT secret;
# mount a volume there, or set CHAT_MONGO_CONNECTION_STRING for a real MongoDB.
# On the generated dev secret the service listens on loopback only, which a published port cannot
# reach inside a container: the image listens on 0.0.0.0 anyway (CHAT_AUTH_DEV_PUBLIC_BIND), so
# publish the ports to your machine only (-p 127.0.0.1:8080:8080). With CHAT_CLAUDE_API_KEY it still
# refuses to start unless CHAT_AUTH_HS256_SECRET (or _JWKS_URL) is set, or CHAT_AUTH_DEV_WITH_API_KEY=true.
# /metrics is not served on 8080 here (not loopback): set CHAT_METRICS_PORT (e.g. 9090) or CHAT_METRICS_TOKEN.
ENV CHAT_AUTH_DEV_PUBLIC_BIND=true
EXPOSE 8080 8081
VOLUME ["/app/data"]
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-jar", "/app/chat-service.jar"]
