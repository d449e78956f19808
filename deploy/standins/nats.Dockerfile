# Stand-in for nats:*-alpine: Debian 12's nats-server, as the ENTRYPOINT (the official image's
# entrypoint also takes arguments that start with `-`), plus wget for the healthcheck.
FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nats-server wget \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
EXPOSE 4222 6222 8222
ENTRYPOINT ["nats-server"]
