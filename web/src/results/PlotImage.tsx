// A PNG plot logged to MLflow with a model version; opens full size in a new tab.
import { modelPath } from "./resultsApi";
import { useAuthedImage } from "./useAuthedImage";

export function PlotImage({ model, version, path }: { model: string; version: number; path: string }) {
  const url = `${modelPath(model)}/versions/${version}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`;
  const { src, failed } = useAuthedImage(url);
  const name = path.split("/").pop()?.replace(/\.png$/, "").replace(/_/g, " ") ?? path;
  return (
    <figure className="plot-image">
      {failed ? (
        <div className="plot-missing">Not available</div>
      ) : src ? (
        <a href={src} target="_blank" rel="noreferrer" title="Open full size">
          <img src={src} alt={`${name} (MLflow plot)`} />
        </a>
      ) : (
        <div className="plot-missing"><span className="spinner" /></div>
      )}
      <figcaption>{name}</figcaption>
    </figure>
  );
}
