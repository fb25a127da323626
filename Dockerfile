# Lifeboat worker and CLI. Debian's libfaiss-dev provides FAISS for the
# faiss-node addon, which scripts/setup compiles (its own install script
# downloads from GitHub).
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libfaiss-dev libopenblas-dev g++ make python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/lifeboat
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && cp scripts/faiss-node/binding.gyp scripts/faiss-node/lifeboat-faiss-compat.h node_modules/faiss-node/ \
 && (cd node_modules/faiss-node && ../.bin/node-gyp rebuild --nodedir=/usr/local)
COPY . .
RUN npm run build && ln -s /opt/lifeboat/bin/lifeboat /usr/local/bin/lifeboat
USER node
CMD ["lifeboat", "worker"]
