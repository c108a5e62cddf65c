/// <reference lib="dom" />
/**
 * The width a chart has to fill: its element's content width in CSS pixels, followed with a
 * `ResizeObserver`, so bar charts and heatmaps fit their panel at any p and any window size.
 *
 * @module
 */

import type { RefObject } from "preact";
import { useLayoutEffect, useState } from "preact/hooks";

/**
 * The content width of `ref`'s element, updated when it changes; `fallback` before the first
 * measure (the first render, before layout).
 *
 * @example
 * ```tsx
 * import { useRef } from "preact/hooks";
 * import { useWidth } from "./use_width.ts";
 * function Sized() {
 *   const box = useRef<HTMLDivElement>(null);
 *   const width = useWidth(box, 300);
 *   return <div ref={box}>{width} px</div>;
 * }
 * ```
 */
export function useWidth(ref: RefObject<HTMLElement | null>, fallback: number): number {
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current!;
    // Whole pixels: a sub-pixel change must not redraw p² cells.
    const measure = () => setWidth(Math.floor(el.getBoundingClientRect().width));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return width;
}
