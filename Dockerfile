# vmpilot in a container. Build: docker build -t vmpilot .
# Run:  docker run --network host -v /etc/vmpilot:/etc/vmpilot:ro -v vmpilot-data:/var/lib/vmpilot vmpilot
# Use host networking: the addresses vmpilot writes in Contact and SDP are then the host's. There is no
# separate advertised RTP address yet, so with bridge networking the PBX must be able to reach the
# container's own address (sip.advertise covers SIP only).

# Node 24: an LTS line supported until April 2028 (Node 20 reached its end of life in April 2026); better-sqlite3
# 12 supports Node 20 to 25. The tests run on Node 20 and 24 (README, "Node.js versions").
FROM node:24-bookworm-slim AS build
# better-sqlite3 (the message store) is a native module: without a prebuilt binary it compiles with node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
# The rest of the context (.dockerignore keeps tests, benchmarks and local state out): tsconfigs, src/, prompts/.
COPY . .
RUN npm run build && npm prune --omit=dev && mkdir -p prompts

FROM node:24-bookworm-slim
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
# Healthy while the server answers SIP OPTIONS with 200 on its first listener (vmpilot ping, 2 s to answer); a
# draining server answers 503 and is reported unhealthy. With pbx configured, the check comes from 127.0.0.1,
# which must then be one of a pbx entry's addresses (ping says so when it is not).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["vmpilot", "ping", "--config", "/etc/vmpilot/vmpilot.yaml"]
# SIGTERM (docker stop) drains calls for shutdown.drainSeconds; give docker stop a longer --time than that.
CMD ["vmpilot", "serve", "--config", "/etc/vmpilot/vmpilot.yaml"]
