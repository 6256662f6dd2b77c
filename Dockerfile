# syntax=docker/dockerfile:1.7
# todo-server: a multi-stage build. The build stage compiles the release binary (migrations and
# static files are embedded in it); the runtime stage is distroless (glibc, CA certificates, no
# shell, no package manager) and runs as the unprivileged user 65532.
#
#   docker build -t todo-server:dev .                       # or, into Minikube:
#   minikube image build -t todo-server:dev .               # (scripts/deploy.sh does this)

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# rdkafka builds its bundled librdkafka (make, a C compiler: in the image); nothing is fetched
# at build time beyond the crates (utoipa-swagger-ui uses its vendored Swagger UI).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p todo-server \
    && install -D -m 0755 target/release/todo-server /out/todo-server

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/todo-server /usr/local/bin/todo-server
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080
ENV TODO_ADDR=0.0.0.0:8080
# /healthz answers while the process serves; Kubernetes probes it (the chart), Docker too.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/todo-server"]
CMD ["serve"]
