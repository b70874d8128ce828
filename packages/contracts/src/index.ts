export * from "./common.js";
export * from "./languages.js";
export * from "./statuses.js";
export * from "./problem.js";
export * from "./submission.js";
export * from "./queues.js";
export * from "./socket.js";
export * from "./judge.js";
