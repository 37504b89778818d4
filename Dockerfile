# rinit as a FROM-scratch image holding only the static binary and its license.
#
# The binary is built outside Docker and taken from the build context, so the
# build needs no base image and no registry:
#
#   cargo build --release --target x86_64-unknown-linux-musl
#   docker build -t rinit .
#
# For another architecture, point RINIT_BIN at that build and set the platform:
#
#   docker build --platform linux/arm64 \
#     --build-arg RINIT_BIN=target/aarch64-unknown-linux-musl/release/rinit -t rinit:arm64 .
#
# Use it in your own image (any base: scratch, Alpine, distroless, Debian):
#
#   COPY --from=rinit /sbin/rinit /sbin/rinit
#   ENTRYPOINT ["/sbin/rinit", "--"]
#   CMD ["your-app", "--flag"]
#
# .dockerignore sends only target/*/release/rinit and LICENSE as the context.

FROM scratch

ARG RINIT_BIN=target/x86_64-unknown-linux-musl/release/rinit

LABEL org.opencontainers.image.title="rinit" \
      org.opencontainers.image.description="A minimal, statically linked PID 1 for containers" \
      org.opencontainers.image.licenses="MIT"

COPY LICENSE /usr/share/doc/rinit/LICENSE
COPY ${RINIT_BIN} /sbin/rinit

ENTRYPOINT ["/sbin/rinit", "--"]
