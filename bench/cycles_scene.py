"""Our frame, as Blender Cycles should see it: a scene description ``cycles_build.py`` rebuilds with bpy.

Blender's USD importer converts lights, materials and units its own way, so a Cycles render of
the imported stage converges to another picture than ours. Instead this module exports what our
renderer itself sees — the embedded backend's tessellated triangles in world space (with the
shading normals it interpolates), each gprim's UsdPreviewSurface parameters, the lights in our
units and the camera intrinsics — each converted to Blender's units by a derived closed form:

- distant light: our scale is the irradiance E (W/m²) on a surface facing it; a Cycles Sun's
  strength is that irradiance too, so ``strength = E`` (a Lambertian ρ shows ρE/π in both);
- sphere light: our scale is the radiance L of its surface. Cycles' point light of power P is
  a sphere of radius r with radiant intensity P/(4π) spread over its disc πr², so
  L = P / (4π²r²) and ``power = 4π²r²L``;
- disk and rect lights: our scale is the radiance L of the one-sided emitting face of area A.
  A Cycles area light of power P is a Lambertian emitter whose exitance P/A is πL, so
  ``power = πAL``;
- dome light (untextured): a world background of that radiance.

Materials become Lambert diffuse (colour (1 − metallic)·base) plus a GGX lobe with Schlick's
Fresnel of F0 (Cycles' Metallic BSDF, F82 model with a white edge tint, which is plain
Schlick), added without energy layering — exactly our ``brdf.py``. The camera becomes a Blender
camera with horizontal sensor fit: ``lens`` = focal length, ``sensor_width`` = horizontal
aperture, and ``shift`` = aperture offset / horizontal aperture (Blender's shift is in units of
the image width for a horizontal fit).

Only what the two renderers can express alike is exported; textures, dielectrics and textured
domes raise :class:`UnsupportedError`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["UnsupportedError", "camera_record", "export_frame", "light_record", "material_record"]


class UnsupportedError(ValueError):
    """The frame uses something the Cycles export does not convert."""


def light_record(light: Any) -> dict[str, Any]:
    """One of our lights (``runtime/embedded/lights.py``) as a Blender light: type, colour and
    strength/power in Blender's units, and its world matrix (column-vector, Blender's order)."""
    from scenesmith.runtime.embedded.lights import AreaLight, DistantLight, SphereLight

    if isinstance(light, DistantLight):
        scale = np.asarray(light.scale, dtype=np.float64)
        return {
            "type": "SUN",
            **_colour_and(scale, "strength"),
            "angle_rad": 2.0 * light.half_angle,
            "direction": [-float(v) for v in light.toward],  # the direction it shines along
            "shadows": bool(light.shadows),
        }
    if isinstance(light, SphereLight):
        r = float(light.radius)
        return {
            "type": "POINT",
            **_colour_and(4.0 * math.pi**2 * r * r * np.asarray(light.radiance), "power"),
            "radius_m": r,
            "location": [float(v) for v in light.center],
            "shadows": bool(light.shadows),
        }
    if isinstance(light, AreaLight):
        m = np.asarray(light.matrix, dtype=np.float64)
        sx, sy = float(np.linalg.norm(m[0, :3])), float(np.linalg.norm(m[1, :3]))
        rotation = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=1, keepdims=True)
        world = np.eye(4)
        world[:3, :3] = rotation.T
        world[:3, 3] = m[3, :3]
        record = {
            "type": "AREA",
            **_colour_and(math.pi * light.area * np.asarray(light.radiance), "power"),
            "matrix_world": world.tolist(),
            "shadows": bool(light.shadows),
        }
        if light.kind == "disk":
            if not math.isclose(sx, sy, rel_tol=1e-9):
                raise UnsupportedError("a disk light scaled unevenly (an ellipse) has no Cycles area light")
            record.update(shape="DISK", size_m=2.0 * light.radius * sx, size_y_m=2.0 * light.radius * sy)
        else:
            record.update(shape="RECTANGLE", size_m=float(light.size[0]) * sx, size_y_m=float(light.size[1]) * sy)
        return record
    raise UnsupportedError(f"light type {type(light).__name__}")


def _colour_and(rgb: np.ndarray, key: str) -> dict[str, Any]:
    """Blender keeps a light's colour in [0, 1]: the brightest channel goes into its strength."""
    peak = float(np.max(rgb))
    colour = (rgb / peak).tolist() if peak > 0 else [1.0, 1.0, 1.0]
    return {"color": [float(c) for c in colour], key: peak}


def material_record(params: Any) -> dict[str, Any]:
    """A gprim's ``MaterialParams`` as the diffuse colour, F0 and roughness of our BRDF."""
    if params.texture or params.roughness_texture or params.metallic_texture or params.normal_texture:
        raise UnsupportedError("textured materials")
    if params.opacity < 1.0:
        raise UnsupportedError("dielectrics (opacity < 1)")
    base = np.asarray(params.diffuse, dtype=np.float64)
    if params.specular is not None:  # specular workflow: F0 given, diffuse unweighted
        f0, metallic = np.asarray(params.specular, dtype=np.float64), 0.0
    else:
        metallic = float(params.metallic)
        f0 = 0.04 * (1.0 - metallic) + base * metallic
    return {
        "diffuse": ((1.0 - metallic) * base).tolist(),
        "f0": f0.tolist(),
        "roughness": float(params.roughness),
        "emission": [float(c) for c in params.emissive],
    }


def camera_record(model: Any, cam_to_world: np.ndarray) -> dict[str, Any]:
    """A ``PinholeCamera`` and its (row-vector) camera-to-world matrix as a Blender camera."""
    if model.lens is not None:
        raise UnsupportedError("lens distortion models")
    m = np.asarray(cam_to_world, dtype=np.float64)
    rotation = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=1, keepdims=True)
    world = np.eye(4)
    world[:3, :3] = rotation.T  # Blender's cameras look down −Z with +Y up, as USD's do
    world[:3, 3] = m[3, :3]
    return {
        "resolution": [int(model.width), int(model.height)],
        "lens_mm": float(model.focal_length_mm),
        "sensor_fit": "HORIZONTAL",
        "sensor_width_mm": float(model.horizontal_aperture_mm),
        "shift_x": float(model.aperture_offset_mm[0]) / float(model.horizontal_aperture_mm),
        "shift_y": float(model.aperture_offset_mm[1]) / float(model.horizontal_aperture_mm),
        "clip_start_m": float(model.near_m),
        "clip_end_m": float(model.far_m),
        "matrix_world": world.tolist(),
    }


def export_frame(backend: Any, camera: str, out: Path) -> dict[str, Any]:
    """Write ``out``.json and ``out``.npz: the current frame of ``backend`` (an
    ``EmbeddedBackend`` after ``build``/``apply``) seen by ``camera``. Returns the JSON record."""
    from scenesmith.runtime.embedded.camera_rays import read_camera
    from scenesmith.runtime.embedded.lights import read_lights
    from scenesmith.runtime.embedded.scene import FrameGeometry
    from scenesmith.scenarios.prim_paths import render_cameras, render_product_path

    frame = FrameGeometry(backend.index)
    lights, dome = read_lights(backend.stage, {})
    world = [0.0, 0.0, 0.0]
    if dome is not None:
        if dome.image is not None:
            raise UnsupportedError("textured dome lights")
        world = [float(c) for c in dome.scale]
    spec = backend.resolved.scenario.render
    if dome is None:
        world_camera = [float(c) for c in spec.background_color]  # what camera rays that miss see
    else:
        world_camera = world
    rc = {c.name: c for c in render_cameras(backend.resolved.scenario)}[camera]
    model, cam_to_world = read_camera(backend.stage, rc.prim_path, render_product_path(camera))
    gprims = backend.index.gprims
    params = backend.materials.for_gprims([g.path for g in gprims])
    normals, _ = frame._world_vertex_normals()
    objects, materials, keys = [], [], {}
    vert_start = 0
    arrays: dict[str, np.ndarray] = {}
    for g in gprims:
        if not frame.visible[g.index]:
            continue
        nv = len(g.mesh.vertices)
        record = material_record(params[g.index])
        key = json.dumps(record, sort_keys=True)
        if key not in keys:
            keys[key] = len(materials)
            materials.append(record)
        f0, f1 = frame.face_offset[g.index], frame.face_offset[g.index] + len(g.mesh.faces)
        name = f"g{g.index}"
        arrays[name + "_v"] = frame.vertices[vert_start : vert_start + nv]
        arrays[name + "_f"] = frame.faces[f0:f1] - vert_start
        if g.smooth_normals:
            arrays[name + "_n"] = normals[vert_start : vert_start + nv]
        objects.append({"name": name, "path": g.path, "material": keys[key], "smooth": bool(g.smooth_normals)})
        vert_start += nv
    record = {
        "camera": camera_record(model, cam_to_world),
        "lights": [light_record(light) for light in lights],
        "world_rgb": world,
        "world_camera_rgb": world_camera,
        "materials": materials,
        "objects": objects,
        "max_bounces": int(spec.max_bounces),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out.with_suffix(".npz"), **arrays)
    out.with_suffix(".json").write_text(json.dumps(record, indent=1))
    return record
