// The benchmark's HTTP handler (bench/endpoints.sh): answers every onmessage with
// {"send": [message]}, the same echo as echo-handler.js. Node's own http module, keep-alive.
import http from "node:http";

const port = Number(process.argv[2] || 0);
const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        const event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const body = event.method === "onmessage" ? JSON.stringify({ send: [event.message] }) : "";
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
    });
});
server.keepAliveTimeout = 60000;
server.listen(port, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
