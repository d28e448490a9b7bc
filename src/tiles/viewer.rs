//! The viewer page written beside a pyramid (`NAME.html`): a small HTML file that loads a viewer
//! library in the reader's browser from the jsdelivr CDN. OpenSeadragon (BSD-3-Clause) shows
//! Deep Zoom, IIIF and Zoomify; Leaflet (BSD-2-Clause) shows XYZ tiles. Nothing of either is
//! shipped in stripflow.
//!
//! When the CDN cannot be reached the page falls back to a copy of the library beside it
//! (`openseadragon.min.js`, `leaflet.js`), which is how `tests/viewer/check.sh` runs it offline.
//! Every tile drawn sets `data-tiles-loaded` on `<body>`, so a headless browser can tell that
//! tiles were requested and rendered.

use super::layouts::{json_escape, Naming};
use super::levels::{Geometry, Layout};

/// OpenSeadragon's script on the jsdelivr CDN.
pub const OPENSEADRAGON_URL: &str = "https://cdn.jsdelivr.net/npm/openseadragon@4.1.1/build/openseadragon/openseadragon.min.js";
/// Leaflet's script on the jsdelivr CDN.
pub const LEAFLET_URL: &str = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js";
/// Leaflet's style sheet on the jsdelivr CDN.
pub const LEAFLET_CSS: &str = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css";

/// The viewer page for `geometry`'s pyramid named by `naming`: its path and contents.
pub fn page(geometry: &Geometry, naming: &Naming) -> (String, String) {
    let name = json_escape(&naming.name);
    let (width, height) = geometry.image;
    let format = naming.suffix.trim_start_matches('.');
    let count = "function loaded(){var b=document.body;b.dataset.tilesLoaded=String(Number(b.dataset.tilesLoaded||0)+1);}";
    let body = match geometry.layout {
        Layout::Xyz => {
            let max_zoom = geometry.levels.len() - 1;
            let (cw, ch) = geometry.canvas;
            format!(
                r#"<link rel="stylesheet" href="{LEAFLET_CSS}">
<script src="{LEAFLET_URL}"></script>
<script>window.L || document.write('<script src="leaflet.js"><\/script>')</script>
<div id="viewer"></div>
<script>
{count}
var map = L.map('viewer', {{ crs: L.CRS.Simple, minZoom: 0, maxZoom: {max_zoom} }});
var bounds = [map.unproject([0, {ch}], {max_zoom}), map.unproject([{cw}, 0], {max_zoom})];
var layer = L.tileLayer('{name}/{{z}}/{{x}}/{{y}}.{format}', {{ tileSize: {tile}, noWrap: true, bounds: bounds, maxNativeZoom: {max_zoom} }});
layer.on('tileload', loaded);
layer.addTo(map);
map.fitBounds(bounds);
</script>"#,
                tile = geometry.tile_size,
            )
        }
        layout => {
            let source = match layout {
                Layout::DeepZoom => format!("'{name}.dzi'"),
                Layout::Zoomify => format!(
                    "{{ type: 'zoomifytileservice', width: {width}, height: {height}, tileSize: {}, tilesUrl: '{name}/', fileFormat: '{format}' }}",
                    geometry.tile_size
                ),
                _ => "info".to_string(),
            };
            let open = format!(
                "var viewer = OpenSeadragon({{ id: 'viewer', prefixUrl: 'https://cdn.jsdelivr.net/npm/openseadragon@4.1.1/build/openseadragon/images/', tileSources: {source} }});\nviewer.addHandler('tile-loaded', loaded);"
            );
            let open = if layout == Layout::Iiif {
                // A static IIIF set names its tiles under its `id`; here they are beside the page.
                format!("fetch('{name}/info.json').then(function(r){{return r.json();}}).then(function(info){{\n  info.id = new URL('{name}', location.href).href;\n  {open}\n}});")
            } else {
                open
            };
            format!(
                r#"<script src="{OPENSEADRAGON_URL}"></script>
<script>window.OpenSeadragon || document.write('<script src="openseadragon.min.js"><\/script>')</script>
<div id="viewer"></div>
<script>
{count}
{open}
</script>"#
            )
        }
    };
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>html,body{{margin:0;height:100%;background:#222}}#viewer{{width:100%;height:100%}}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        html_escape(&naming.name)
    );
    (format!("{}.html", naming.name), html)
}

/// `text` safe inside HTML.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layout_gets_its_viewer() {
        for (layout, needle) in [
            (Layout::DeepZoom, "tileSources: 'p.dzi'"),
            (Layout::Zoomify, "zoomifytileservice"),
            (Layout::Iiif, "info.json"),
            (Layout::Xyz, "L.tileLayer('p/{z}/{x}/{y}.jpg'"),
        ] {
            let g = Geometry::new(layout, 1000, 700, layout.default_tile_size(), 0, layout.default_depth(), false).unwrap();
            let (path, html) = page(&g, &Naming::new(&g, "p", ".jpg"));
            assert_eq!(path, "p.html");
            assert!(html.contains(needle), "{layout:?}: {html}");
            assert!(html.contains("tilesLoaded"));
        }
    }
}
