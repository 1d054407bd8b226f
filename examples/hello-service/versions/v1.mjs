// hello-service v1: the version running in both stages when the demo starts.
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  return {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
    body: "hello from hello-service v1",
  };
};
