# vmpilot in a container. Build: docker build -t vmpilot .
# Run:  docker run --network host -v /etc/vmpilot:/etc/vmpilot:ro -v vmpilot-data:/var/lib/vmpilot vmpilot
# Use host networking: the addresses vmpilot writes in Contact and SDP are then the host's. With bridge
# networking, publish the SIP ports and rtp.ports, and set sip.advertise and rtp.advertise to the host's address.

# Node 22, an LTS line (maintained until April 2027; Node 20 reached its end of life in April 2026). Not Node 24:
# from 24.19 node::ObjectWrap removes an environment cleanup hook in its destructor, and better-sqlite3 before
# 13 (we use 12) then aborts the process when a garbage collection outside any JS context finalizes a
# statement ("Assertion failed: (env) != nullptr" in Statement::~Statement; seen in this repository's tests on
# 24.21). Move to node:24 together with better-sqlite3 13. README, "Node.js versions", says what runs where.
FROM node:22-bookworm-slim AS build
# better-sqlite3 (the message store) is a native module: without a prebuilt binary it compiles with node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
# The rest of the context (.dockerignore keeps tests, benchmarks and local state out): tsconfigs, src/, prompts/.
COPY . .
RUN npm run build && npm prune --omit=dev && mkdir -p prompts

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prompts ./prompts
# The web admin's page (HTML, ES modules, CSS), served as is from the package folder.
COPY --from=build /app/web ./web
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
