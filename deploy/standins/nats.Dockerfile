# Stand-in for nats:*-alpine: Debian 13's nats-server 2.10.27 (the version the project runs
# everywhere; docs/toolchain.md), installed on Debian 12 from a private apt list naming trixie, as
# the ENTRYPOINT (the official image's entrypoint also takes arguments that start with `-`), plus
# wget for the healthcheck.
FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends wget ca-certificates \
 && mkdir -p /tmp/trixie/lists/partial && chmod -R a+rwX /tmp/trixie \
 && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
      > /tmp/trixie/sources.list \
 && opts="-o Dir::Etc::sourcelist=/tmp/trixie/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=/tmp/trixie/lists" \
 && apt-get $opts update -qq && cd /tmp/trixie && apt-get $opts download nats-server \
 && apt-get install -y -qq --no-install-recommends /tmp/trixie/nats-server_*.deb \
 && nats-server --version \
 && rm -rf /tmp/trixie && apt-get clean && rm -rf /var/lib/apt/lists/*
EXPOSE 4222 6222 8222
ENTRYPOINT ["nats-server"]
