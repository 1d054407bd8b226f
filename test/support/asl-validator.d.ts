/** asl-validator 4 ships no type declarations; this is the part the tests use. */
declare module "asl-validator" {
  export default function aslValidator(
    definition: unknown,
    options?: { checkArn?: boolean; checkPaths?: boolean },
  ): { isValid: boolean; errors: unknown[]; errorsText(separator?: string): string };
}
