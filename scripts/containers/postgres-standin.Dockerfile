# Stand-in for the official postgres:<major> image, built by scripts/containers-setup.sh only where Docker
# Hub cannot be reached: Debian's postgresql-<major> and gosu, the data directory at /var/lib/postgresql/data,
# and an entrypoint that does what ours needs of the official one (postgres-standin-entrypoint.sh).
ARG BASE
FROM ${BASE}
ARG PG_MAJOR
ENV PG_MAJOR=${PG_MAJOR} \
    PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
RUN set -eux; \
    # No service may start while packages install (there is no init system in a build).
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
    chmod +x /usr/sbin/policy-rc.d; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common; \
    # As the official image: no cluster from the package, the entrypoint makes one in PGDATA.
    sed -ri 's/#(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}" gosu; \
    rm -rf /var/lib/apt/lists/*; \
    sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "/usr/share/postgresql/${PG_MAJOR}/postgresql.conf.sample"; \
    mkdir -p /var/run/postgresql "$PGDATA" /docker-entrypoint-initdb.d; \
    chown postgres:postgres /var/run/postgresql "$PGDATA"; \
    chmod 3777 /var/run/postgresql; \
    pg_isready --version
COPY postgres-standin-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
# Fast shutdown, as the official image: SIGINT ends sessions and stops at once.
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
