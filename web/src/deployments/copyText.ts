// Copy text to the clipboard, with a toast saying so (or what to do instead).
import { toast } from "../state/toasts";

/** `what` names the text in a sentence: "token", "endpoint URL". */
export async function copyText(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast.success(`${what[0].toUpperCase()}${what.slice(1)} copied.`);
  } catch {
    toast.error(`Could not copy the ${what}: select it and press Ctrl+C.`);
  }
}
