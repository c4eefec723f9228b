# vmpilot in a container. Build: docker build -t vmpilot .
# Run:  docker run --network host -v /etc/vmpilot:/etc/vmpilot:ro -v vmpilot-data:/var/lib/vmpilot vmpilot
# Use host networking: the addresses vmpilot writes in Contact and SDP are then the host's. There is no
# separate advertised RTP address yet, so with bridge networking the PBX must be able to reach the
# container's own address (sip.advertise covers SIP only).

FROM node:20-bookworm-slim AS build
# better-sqlite3 (the message store) is a native module: without a prebuilt binary it compiles with node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
# The rest of the context (.dockerignore keeps tests, benchmarks and local state out): tsconfigs, src/, prompts/.
COPY . .
RUN npm run build && npm prune --omit=dev && mkdir -p prompts

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prompts ./prompts
RUN ln -s /app/dist/src/admin/cli.js /usr/local/bin/vmpilot \
 && chmod +x /app/dist/src/admin/cli.js \
 && mkdir -p /etc/vmpilot /var/lib/vmpilot \
 && printf '# Default container config: mount your own over /etc/vmpilot/vmpilot.yaml.\nstorage:\n  dir: /var/lib/vmpilot\n' > /etc/vmpilot/vmpilot.yaml \
 && chown node:node /var/lib/vmpilot
VOLUME /var/lib/vmpilot
EXPOSE 5060/udp 5060/tcp 5061/tcp 20000-29999/udp
USER node
# SIGTERM (docker stop) drains calls for shutdown.drainSeconds; give docker stop a longer --time than that.
CMD ["vmpilot", "serve", "--config", "/etc/vmpilot/vmpilot.yaml"]
