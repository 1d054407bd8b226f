// hello-service v5: the plain greeting (no name given) now comes from a new translation service,
// which times out on one request in five. Preprod's integration tests greet a named user, and the
// canary's single request passes. In prod, where one request in five has no name, the alias sees
// under 1% errors at the first 10% step, far below its 5% alarm. The version's own numbers
// (ExecutedVersion, and the canary's requests sent to make up a short sample) show it failing,
// and the version analysis rolls it back.
let plain = 0;
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  const name = event.queryStringParameters?.name;
  if (!name) {
    plain += 1;
    if (plain % 5 === 0) throw new Error("translation service timed out");
  }
  const greeting = name ? `hello, ${name}` : "hello";
  return {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
    body: `${greeting} from hello-service v5`,
  };
};
