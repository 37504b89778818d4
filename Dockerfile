# rinit as a FROM-scratch image holding only the static binary and its license.
#
# The binary is built outside Docker (scripts/static.sh, one per
# architecture, as target/static/rinit-ARCH) and taken from the build
# context, so the build needs no base image and no registry. The target
# platform picks the binary: TARGETARCH and TARGETVARIANT name it (amd64,
# arm64, armv7, armv6, 386, ppc64le, riscv64, s390x), so one build of
# every platform makes a multi-platform image, and `COPY --from=` it gets
# the binary of the platform being built:
#
#   scripts/static.sh all
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7,linux/arm/v6,linux/386,linux/ppc64le,linux/riscv64,linux/s390x -t rinit .
#
# BuildKit sets TARGETARCH and TARGETVARIANT; the classic builder does
# not, so there pass them (or RINIT_BIN, any static build) yourself, with
# --no-cache: that builder's cache ignores the platform, and a layer built
# for one would be taken for another.
#
#   docker build --no-cache --platform linux/arm64 --build-arg TARGETARCH=arm64 -t rinit:arm64 .
#   docker build --no-cache --platform linux/arm/v7 --build-arg TARGETARCH=arm --build-arg TARGETVARIANT=v7 -t rinit:armv7 .
#
# (The license is copied first: on FROM scratch the classic builder takes
# the platform from the first layer, and an ARG step would make it the
# host's.)
#
# Use it in your own image (any base: scratch, Alpine, distroless, Debian):
#
#   COPY --from=rinit /sbin/rinit /sbin/rinit
#   ENTRYPOINT ["/sbin/rinit", "--"]
#   CMD ["your-app", "--flag"]
#
# .dockerignore sends only target/static/rinit-ARCH, the x86_64 and
# aarch64 cargo builds, and LICENSE as the context.

FROM scratch

COPY LICENSE /usr/share/doc/rinit/LICENSE

ARG TARGETARCH
ARG TARGETVARIANT
ARG RINIT_BIN=target/static/rinit-${TARGETARCH}${TARGETVARIANT}
COPY ${RINIT_BIN} /sbin/rinit

LABEL org.opencontainers.image.title="rinit" \
      org.opencontainers.image.description="A minimal, statically linked PID 1 for containers" \
      org.opencontainers.image.licenses="MIT"

ENTRYPOINT ["/sbin/rinit", "--"]
