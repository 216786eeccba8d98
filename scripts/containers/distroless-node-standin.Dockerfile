# Stand-in for gcr.io/distroless/nodejs<major>-debian<N>:nonroot, built by scripts/containers-setup.sh only
# where that registry cannot be reached. Laid out like the distroless image (GoogleContainerTools/distroless,
# nodejs/ on top of cc/, base/ and static/): no shell, no package manager, no coreutils; glibc, libgcc,
# libstdc++ and libssl from Debian; the CA bundle; /etc/passwd with root, nobody and nonroot (65532);
# /tmp (1777); node at /nodejs/bin/node as the ENTRYPOINT; user 65532, workdir /home/nonroot.
# The CA bundle is the host's, as in the node stand-in (a TLS-intercepting proxy signs what the host trusts).
ARG BASE
FROM ${BASE} AS rootfs
RUN set -eux; \
    mkdir -p /out/etc/ssl/certs /out/tmp /out/home/nonroot /out/nodejs /out/var/lib/dpkg/status.d; \
    # The files of the shared libraries node links against, as Debian installed them (no maintainer scripts
    # run in a distroless image either).
    for package in libc6 libgcc-s1 libstdc++6 libssl3t64 zlib1g; do \
      dpkg-query -W "$package" >/dev/null 2>&1 || continue; \
      dpkg-query -L "$package" | while read -r path; do \
        if [ -f "$path" ] || [ -L "$path" ]; then cp -a --parents "$path" /out/; fi; \
      done; \
      # What scanners (Trivy) read to list a distroless image's packages.
      dpkg-query -s "$package" > "/out/var/lib/dpkg/status.d/$package"; \
    done; \
    cp -a --parents /lib64 /out/ 2>/dev/null || true; \
    cp /etc/os-release /out/etc/os-release; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /out/etc/passwd; \
    printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > /out/etc/group; \
    printf 'hosts: files dns\n' > /out/etc/nsswitch.conf; \
    chmod 1777 /out/tmp; \
    chown 65532:65532 /out/home/nonroot
COPY ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt
COPY node/bin/node /out/nodejs/bin/node
# The image holds only /out: a test that it runs, and that there is no shell to run anything else.
RUN set -eux; \
    chroot /out /nodejs/bin/node --version; \
    ! chroot /out /bin/sh -c true 2>/dev/null

FROM scratch
ARG NODE_VERSION
COPY --from=rootfs /out/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL com.google.distroless.nodejs.version=${NODE_VERSION}
USER 65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
