# Stand-in for redis:*: Debian 12's redis-server 7.0 and redis-cli; data in /data.
FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* && mkdir -p /data
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
