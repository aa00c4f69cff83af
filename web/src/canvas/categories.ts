// How node categories look in the palette and on the canvas (order, colour, icon).
import type { IconName } from "../ui/Icon";

type CategoryLook = { title: string; colour: string; icon: IconName; order: number };

const LOOKS: Record<string, CategoryLook> = {
  "data input": { title: "Data", colour: "#0ba5ec", icon: "database", order: 0 },
  preprocessing: { title: "Preprocessing", colour: "#7a5af8", icon: "filter", order: 1 },
  training: { title: "Training", colour: "#ee46bc", icon: "brain", order: 2 },
  evaluation: { title: "Evaluation", colour: "#f79009", icon: "chart", order: 3 },
  models: { title: "Models", colour: "#15b79e", icon: "box", order: 4 },
  output: { title: "Output", colour: "#667085", icon: "download", order: 5 },
  general: { title: "General", colour: "#4e5ba6", icon: "braces", order: 6 },
};

export function categoryLook(category: string): CategoryLook {
  return (
    LOOKS[category] ?? {
      title: category.replace(/^\w/, (c) => c.toUpperCase()),
      colour: "#667085",
      icon: "cog",
      order: 99,
    }
  );
}

/** The port types with a colour of their own (CSS variables --port-<type> in styles/theme.css). */
const PORT_TYPES = ["dataset", "model", "metrics", "json", "text"];

export function portColour(type: string): string {
  const known = PORT_TYPES;
  return `var(--port-${known.includes(type.toLowerCase()) ? type.toLowerCase() : "other"})`;
}

/** "train_test_split" → "Train test split". */
export function typeTitle(type: string): string {
  return type.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}
