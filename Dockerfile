# stet's own image: a static binary on distroless, every base pinned by
# digest (stet check Dockerfile is part of CI). Build with the stamps that
# scripts/dist uses, so `stet version` inside the image names its commit:
#
#   docker build \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" \
#     --build-arg BUILD_DATE="$(git log -1 --format=%cI)" \
#     -t stet .

# The builder runs on the build host's platform and cross-compiles, so a
# multi-platform build (--platform linux/amd64,linux/arm64) never emulates.
FROM --platform=$BUILDPLATFORM docker.io/library/golang:1.26.6@sha256:640a234f4bea3e399c056b7b8f9c667c4939befae8db2f14e9785e16eccd4205 AS build
# go.mod asks for a newer Go than this image ships, and the image sets
# GOTOOLCHAIN=local. Naming the exact toolchain makes the go command fetch
# that one release, checked against the Go checksum database, and nothing
# newer: the build stays reproducible. Drop this once the base image is at
# least the go.mod version.
ENV GOTOOLCHAIN=go1.26.8 \
    CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG TARGETOS TARGETARCH
ARG VERSION="" COMMIT="" BUILD_DATE=""
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS="$TARGETOS" GOARCH="$TARGETARCH" go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= \
        -X github.com/stet-dev/stet/internal/cli.version=${VERSION} \
        -X github.com/stet-dev/stet/internal/cli.commit=${COMMIT} \
        -X github.com/stet-dev/stet/internal/cli.buildDate=${BUILD_DATE}" \
      -o /out/stet ./cmd/stet

# distroless/static has no shell and no package manager: nothing in the image
# but stet, CA certificates and tzdata. The :latest variant runs as root; the
# USER line below is what the :nonroot variant sets (distroless's nonroot
# user, 65532), so the pinned digest serves both.
FROM gcr.io/distroless/static-debian13:latest@sha256:9197324ba51d9cd071af8505989365c006adf9d6d2067eada25aef00abbb5278
COPY --from=build /out/stet /usr/local/bin/stet
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/stet"]
CMD ["check", "."]
