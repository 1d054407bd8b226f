// hello-service v4: localised greetings. The canary calls /hello without a name and preprod's
// tests greet in English, and both pass; real users send their names in their own languages, and
// the new formatting code throws on every one but English. It passes preprod and fails under
// prod's traffic: the alarm rolls it back.
const formats = { en: (name) => `hello, ${name}` };
export const handler = async (event) => {
  const path = event.rawPath ?? "/";
  if (path !== "/hello") return { statusCode: 404, body: "not found" };
  const name = event.queryStringParameters?.name;
  if (!name)
    return {
      statusCode: 200,
      headers: { "content-type": "text/plain" },
      body: "hello from hello-service v4",
    };
  const language = event.headers?.["accept-language"]?.slice(0, 2);
  const format = formats[language]; // undefined for anything but "en", and users rarely send "en" first
  return {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
    body: `${format(name)} from hello-service v4`,
  };
};
