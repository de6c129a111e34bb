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
EXPOSE 8080 8081
VOLUME ["/app/data"]
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-jar", "/app/chat-service.jar"]
