// hello-service v6: greetings in other languages than English now come from a greeting store,
// with an access token fetched when the version starts and never renewed. Every check passes
// while the token is fresh, so the rollout succeeds; 75 seconds after the version started the
// token expires and every such greeting fails. Most of prod's users are not English speakers:
// prod is in an incident, its error alarm in ALARM, and only a deployment marked as a fix
// (`--fix-for`) may go out. Preprod's tests greet in English, so preprod stays quiet.
const TOKEN_LIFETIME_MS = 75_000;
const startedAt = Date.now();
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  const name = event.queryStringParameters?.name;
  const english = (event.headers?.["accept-language"] ?? "en").startsWith("en");
  if (name && !english && Date.now() - startedAt > TOKEN_LIFETIME_MS)
    throw new Error("greeting store: token expired");
  const greeting = name ? `hello, ${name}` : "hello";
  return {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
    body: `${greeting} from hello-service v6`,
  };
};
