# Stand-in for postgres:15*: Debian 12's PostgreSQL 15 with an entrypoint that honours
# POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and PGDATA as the official image does.
FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres", "-c", "listen_addresses=*"]
