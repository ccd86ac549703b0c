// A Socket.IO 4 server with rooms, the other common way to put WebSockets in front of a
// database: browsers `join-room`, and the database POSTs /api/emit/room, which the server
// turns into `io.to(room).emit(event, data)`. Written for Switchboard's benchmarks; the
// REST body is Switchboard's own ({room, event, data}) so one load generator drives both.
"use strict";

const http = require("http");
const express = require("express");
const { Server } = require("socket.io");

const app = express();
app.use(express.json());

app.get("/", (req, res) => {
  res.send("Socket.IO bridge is running");
});

app.post("/api/emit/room", (req, res) => {
  const { room, event, data } = req.body || {};
  if (typeof room !== "string" || room === "") {
    return res.status(400).json({ ok: false, message: "room is required" });
  }
  if (typeof event !== "string" || event === "") {
    return res.status(400).json({ ok: false, message: "event is required" });
  }
  io.to(room).emit(event, data);
  res.json({ ok: true });
});

const server = http.createServer(app);
const io = new Server(server, { transports: ["websocket"], serveClient: false });

io.on("connection", (socket) => {
  socket.on("join-room", (room) => {
    if (typeof room !== "string" || room === "") return;
    socket.join(room);
    socket.emit("joined", room);
  });
});

const PORT = process.env.PORT || 3001;
const HOST = process.env.HOST || "127.0.0.1";
server.listen(PORT, HOST, () => {
  console.log(`Socket.IO server listening on http://localhost:${PORT}`);
});
