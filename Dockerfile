# Certflow API and worker image (one image, two commands). Used by docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts && npm cache clean --force
COPY . .
ENV NODE_ENV=production
USER node
CMD ["npx", "tsx", "cmd/api.ts"]
