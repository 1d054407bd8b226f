// hello-service v3: a refactoring that broke every request (the helper was renamed to `greet`
// but one call still uses the old name). Its canary fails in preprod, so it never reaches prod.
const greet = (name) => `hello, ${name}`;
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  const name = event.queryStringParameters?.name ?? "world";
  const body = name === "world" ? greeting(name) : greet(name); // greeting is not defined
  return { statusCode: 200, body: `${body} from hello-service v3` };
};
