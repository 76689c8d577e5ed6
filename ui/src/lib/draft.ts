// Crash-safe forms: what is typed is saved to the app's store (debounced), so killing
// the app mid-edit and starting it again loses nothing.
import { call, commands } from "./ipc";

/** Loads the draft under `key` (parsed as JSON), or `fallback`. */
export async function loadDraft<T>(key: string, fallback: T): Promise<T> {
  try {
    const text = await call(commands.draftGet(key));
    return text ? { ...fallback, ...JSON.parse(text) } : fallback;
  } catch {
    return fallback;
  }
}

/** A saver that writes `value` under `key` at most every `ms` (the last value always lands). */
export function draftSaver(key: string, ms = 250) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: unknown = null;
  const flush = () => {
    timer = null;
    call(commands.draftSave(key, JSON.stringify(pending))).catch(() => {});
  };
  return {
    save(value: unknown) {
      pending = value;
      if (!timer) timer = setTimeout(flush, ms);
    },
    discard() {
      if (timer) clearTimeout(timer);
      timer = null;
      call(commands.draftDelete(key)).catch(() => {});
    },
  };
}
