# The Node.js services (today: reviews), one image each, built from the
# repository root:
#   docker build -f deploy/docker/node.Dockerfile --build-arg SERVICE=reviews -t <registry>/daprshop/reviews:<tag> .
# The production dependencies, installed exactly as the committed lockfile
# says (`npm ci --omit=dev`), and the sources, on distroless' Node.js 20
# runtime (no shell, no npm), run as a numeric non-root user: the kubelet can
# only enforce runAsNonRoot against a numeric UID. Only package.json,
# package-lock.json and src/ are copied, so a local node_modules never gets
# in. Nothing reads a file at run time but the sources, so the root
# filesystem can stay read-only.
# test/deploy (TestNodeDockerfileBuildStage) runs this build stage's COPY, ENV
# and RUN steps without Docker and checks the result.
FROM node:20-bookworm-slim AS build
ARG SERVICE
WORKDIR /app
COPY services/${SERVICE}/package.json services/${SERVICE}/package-lock.json ./
ENV NODE_ENV=production
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund
COPY services/${SERVICE}/src/ src/

# For `tilt up -- --k8s` only (target dev): the same tree on distroless'
# debug variant, whose busybox shell Tilt's restart wrapper needs for live
# updates, owned by the user so that Tilt can sync src/ into it. Not for
# production: the last stage is the image.
FROM gcr.io/distroless/nodejs20-debian12:debug-nonroot AS dev
WORKDIR /app
COPY --from=build --chown=65532:65532 /app /app
ENV NODE_ENV=production
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "src/main.js"]

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "src/main.js"]
