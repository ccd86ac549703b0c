// The benchmark's script handler (bench/endpoints.sh): answers every message with itself.
var websockets = require("net/v4/websockets");

exports.onMessage = function (message) {
    websockets.getSession().send(message);
};
