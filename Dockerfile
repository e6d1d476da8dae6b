# Firebreak's service image: one image for both process kinds (`npm run api`, `npm run worker`),
# as the README's "Deployment" section runs them (node directly, the scripts' commands). Build: docker build -t firebreak .
#
# Build stage: the full Node image has the compilers better-sqlite3 falls back to when its
# prebuilt binary does not load; `npm install` runs the same provisioning as on a workstation.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run typecheck
RUN npm prune --omit=dev --no-audit --no-fund

# Runtime stage: no compilers, no dev dependencies, an unprivileged user.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/var/lib/firebreak \
    FIREBREAK_KEY_DIR=/var/run/firebreak/keys
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /var/lib/firebreak /var/run/firebreak/keys \
 && chown -R node:node /var/lib/firebreak /var/run/firebreak \
 && chmod 0700 /var/lib/firebreak /var/run/firebreak/keys
USER node
EXPOSE 3000
# The API process by default (the command of `npm run api`, without npm in the running image); the
# worker Deployment runs the command of `npm run worker` with the same image.
CMD ["node", "--import", "tsx", "app/api.ts"]
