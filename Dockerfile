# One image for every service (distributed mode); compose.yaml picks the service by command.
# The judge's runtime (toolchains) is NOT in this image: the evaluator uses the Docker engine
# with the host's sonocode-runtime image (scripts/runtime/docker-image.sh builds it locally).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
COPY apps ./apps
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx
ENV NODE_ENV=production HOST=0.0.0.0
USER node
