// Test helper: the WardenError a promise rejects with (anything else is rethrown; success fails the test).
import { WardenError } from "../../runtime/errors.ts";

export async function failure(promise: Promise<unknown>): Promise<WardenError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WardenError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/** The code and message alone, for comparing a failure whole (`toEqual`) across backends. */
export async function failureText(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await failure(promise);
  return { code: error.code, message: error.message };
}
