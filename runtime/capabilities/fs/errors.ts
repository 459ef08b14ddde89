// Maps host errno failures to Warden's closed set of codes, naming only the guest's own relative path.
import { toWardenError, WardenError } from "../../errors.ts";

export function errnoOf(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

export function symlinkDenied(shown: string): WardenError {
  return new WardenError("CAPABILITY_DENIED", `${shown} is a symbolic link; symlinks are not followed`);
}

/**
 * `shown` is already quoted guest text. Errno messages are never copied: they embed the host path we
 * opened (/proc/self/fd/N/...), which says nothing useful to the guest and would leak fd numbers.
 */
export function fsError(error: unknown, shown: string): WardenError {
  if (error instanceof WardenError) return error;
  switch (errnoOf(error)) {
    case "ENOENT":
      return new WardenError("NOT_FOUND", `${shown} does not exist`);
    case "EEXIST":
      return new WardenError("ALREADY_EXISTS", `${shown} already exists`);
    case "ENOTDIR":
      return new WardenError("NOT_A_DIRECTORY", `${shown} is not a directory`);
    case "EISDIR":
      return new WardenError("IS_A_DIRECTORY", `${shown} is a directory`);
    case "ENOTEMPTY":
      return new WardenError("NOT_EMPTY", `${shown} is a directory that is not empty`);
    case "ELOOP":
      return symlinkDenied(shown);
    case "EACCES":
    case "EPERM":
      return new WardenError(
        "CAPABILITY_DENIED",
        `the host's file permissions do not allow this on ${shown}`,
      );
    case "ENAMETOOLONG":
      return new WardenError("INVALID_ARGUMENT", `${shown} is too long`);
    case "EXDEV":
      return new WardenError("INVALID_ARGUMENT", `${shown} cannot be moved across file systems`);
    case "ENXIO":
      return new WardenError("INVALID_ARGUMENT", `${shown} is not a regular file`);
    case "ENOSPC":
    case "EDQUOT":
      return new WardenError("LIMIT_EXCEEDED", "the host's disk or quota is full");
    default: {
      // Unknown failures become a fixed INTERNAL message; the original stays on `cause` for the host log.
      const mapped = toWardenError(error);
      mapped.cause = error;
      return mapped;
    }
  }
}
