# The auditor image: one image, three roles (api, worker, all-in-one) chosen by the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/anpr-audit.js"]
CMD ["serve"]
