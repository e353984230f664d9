# The faultline command in an image, for the Kubernetes manifests of
# deploy/kubernetes/ (and for anyone who wants faultline without Go).
# Build it from the repository's root and push it where your cluster pulls
# from:
#
#   docker build -t REGISTRY/faultline:dev .
#   docker push REGISTRY/faultline:dev
#
# The image's entrypoint is faultline itself: `docker run --rm
# REGISTRY/faultline:dev targets` lists the targets. Campaign workers
# re-execute the same binary, so nothing else is needed at run time.
#
# .git is left out of the build context, so reports made by this binary name
# faultline as "(devel)", without a commit.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -buildvcs=false -o /out/faultline ./cmd/faultline

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/faultline /usr/local/bin/faultline
ENTRYPOINT ["/usr/local/bin/faultline"]
