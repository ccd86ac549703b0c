// The seed's Node.js bridge (APEX Real-Time Messaging, part 1, server.js), written from its
// description for Switchboard's benchmarks: express 4 + ws 8, POST /api/broadcast stringifies
// the message once and sends it to every open WebSocket client, and every request and
// connection is logged with console.log as the seed does (run.sh sends stdout to a file, as
// the seed's `nohup node server.js > rtm.log` does).
"use strict";

const http = require("http");
const WebSocket = require("ws");
const express = require("express");

const app = express();
app.use(express.json());

app.get("/", (req, res) => {
  res.send("RTM WebSocket / REST bridge is running");
});

app.post("/api/broadcast", (req, res) => {
  const { channel, eventName, payload } = req.body || {};
  console.log("POST /api/broadcast", { channel, eventName, payload });

  if (!channel) {
    return res.status(400).json({ ok: false, message: "channel is required" });
  }

  const msg = JSON.stringify({ channel, eventName, payload });

  wss.clients.forEach((client) => {
    if (client.readyState === WebSocket.OPEN) {
      client.send(msg);
    }
  });

  res.json({ ok: true });
});

const server = http.createServer(app);
const wss = new WebSocket.Server({ server });

wss.on("connection", (ws) => {
  console.log("WebSocket client connected");

  ws.on("message", (data) => {
    console.log("WS message:", data.toString());
  });

  ws.on("close", () => {
    console.log("WebSocket client disconnected");
  });
});

const PORT = process.env.PORT || 3000;
const HOST = process.env.HOST || "127.0.0.1";
server.listen(PORT, HOST, () => {
  console.log(`RTM server listening on http://localhost:${PORT}`);
});
