// hello-service v2: greets people by name. A good release.
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  const name = event.queryStringParameters?.name;
  const greeting = name ? `hello, ${name}` : "hello";
  return {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
    body: `${greeting} from hello-service v2`,
  };
};
