# Stand-in for the official node:<version>-<suite>-slim image, built by scripts/containers-setup.sh only
# where Docker Hub cannot be reached. Laid out like the official image: node and npm under /usr/local, a
# `node` user and group with id 1000, CMD node. One addition, for the machine that builds it: the host's CA
# bundle as npm's cafile, so `npm ci` in our Dockerfile reaches the registry through a TLS-intercepting proxy.
ARG BASE
FROM ${BASE}
ARG NODE_VERSION
ENV NODE_VERSION=${NODE_VERSION}
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN set -eux; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    mkdir -p /usr/local/etc; \
    echo 'cafile=/etc/ssl/certs/ca-certificates.crt' > /usr/local/etc/npmrc; \
    echo 'node:x:1000:' >> /etc/group; \
    echo 'node:x:1000:1000::/home/node:/bin/bash' >> /etc/passwd; \
    mkdir -p /home/node; \
    chown 1000:1000 /home/node; \
    node --version; \
    npm --version
CMD ["node"]
