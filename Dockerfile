# oauthtrio with Chromium, for users without Go: "check" tests an issuer,
# "serve" runs the reference trio (compose.yaml). README, "Container".
# Both stages are Debian bookworm: the binary links against its C library.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -buildvcs=false -o /out/oauthtrio ./cmd/oauthtrio

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium-headless-shell ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 oauthtrio \
    && install -d -m 700 -o oauthtrio /var/lib/oauthtrio
COPY --from=build /out/oauthtrio /usr/local/bin/oauthtrio
USER oauthtrio
WORKDIR /home/oauthtrio
EXPOSE 8443
ENTRYPOINT ["oauthtrio"]
CMD ["serve", "--addr", "0.0.0.0:8443", "--state", "/var/lib/oauthtrio"]
