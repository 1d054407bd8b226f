// hello-service v7: the fix for v6's incident. It renews the greeting store's token before it
// expires. Deployed with `gantry deploy --fix-for hello-service-prod-errors` while prod's alarm is
// in ALARM: the version analysis, not that alarm, judges it, and it must fail less than v6.
const TOKEN_LIFETIME_MS = 75_000;
let tokenFetchedAt = Date.now();
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  if (Date.now() - tokenFetchedAt > TOKEN_LIFETIME_MS / 2) tokenFetchedAt = Date.now();
  const name = event.queryStringParameters?.name;
  const greeting = name ? `hello, ${name}` : "hello";
  return {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
    body: `${greeting} from hello-service v7`,
  };
};
