# keysweep in a container, for the Kubernetes Job in README.md and for teams
# that run scanners as images:
#
#   docker build -t keysweep .
#   docker run --rm -v "$PWD:/scan:ro" keysweep git /scan
#
# Two stages: the `dist` profile build (Cargo.toml), then a small Debian image
# with only what keysweep runs beside itself (git for `keysweep org` clones,
# CA certificates for HTTPS and STS) and a non-root user.

FROM rust:1.95-slim-trixie AS build
WORKDIR /src
# Cargo.toml names the test and bench targets, so their files come too;
# .dockerignore keeps out target/ and everything else.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY tests ./tests
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --profile dist \
    && cp target/dist/keysweep /usr/local/bin/keysweep

FROM debian:trixie-slim
# Unpinned on purpose: the image should get Debian's security fixes when rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin keysweep
COPY --from=build /usr/local/bin/keysweep /usr/local/bin/keysweep
USER 10001:10001
WORKDIR /home/keysweep
ENTRYPOINT ["keysweep"]
CMD ["--help"]
