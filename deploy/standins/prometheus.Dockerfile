# Stand-in for prom/prometheus:*: Debian 12's prometheus with the official image's config and
# storage paths, running as nobody as the official image does, plus wget for the healthcheck.
FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus wget \
 && apt-get clean && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
