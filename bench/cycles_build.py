"""Build and render, with bpy, the scene ``cycles_scene.py`` exported (runs in bpy's own venv).

Usage: ``python cycles_build.py SCENE OUT_DIR THREADS`` where SCENE is the export's path
without suffix (``SCENE.json`` + ``SCENE.npz``); then one JSON line per render on stdin,
``[samples, denoise, name, warm]``: a warm render first if asked, then a timed one, whose
linear RGB goes to ``OUT_DIR/name.npy``; each answered by a ``RESULT`` JSON line.

Settings that would make Cycles converge to another picture than ours are turned off: the
pixel filter is a 1-px box (ours: uniform jitter in the pixel; Cycles' default is a 1.5-px
Blackman-Harris), no sample clamping (Cycles clamps indirect light at 10 by default), no
glossy filter ("Filter Glossy" blurs sharp highlights), no light threshold (0.01 by default
drops weak light samples), caustics allowed (ours has no caustic filter), no shadow-terminator
offsets, adaptive
sampling and path guiding off, Standard view transform, and max bounces N − 1 (Cycles counts
bounces after the first hit: 0 is direct light, where our ``max_bounces`` 1 is). The light
tree is kept (it changes only which light a sample picks, not the expectation).
"""

import json
import sys
import time

import bpy
import numpy as np


def _material(record: dict, name: str) -> "bpy.types.Material":
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    nodes.clear()
    out = nodes.new("ShaderNodeOutputMaterial")
    diffuse = nodes.new("ShaderNodeBsdfDiffuse")
    diffuse.inputs["Color"].default_value = (*record["diffuse"], 1.0)
    diffuse.inputs["Roughness"].default_value = 0.0  # Lambert, not Oren-Nayar
    glossy = nodes.new("ShaderNodeBsdfMetallic")
    glossy.distribution = "GGX"  # single-scatter, like ours (not Multiscatter GGX)
    glossy.fresnel_type = "F82"
    glossy.inputs["Base Color"].default_value = (*record["f0"], 1.0)
    glossy.inputs["Edge Tint"].default_value = (1.0, 1.0, 1.0, 1.0)  # white tint: plain Schlick
    glossy.inputs["Roughness"].default_value = record["roughness"]
    add = nodes.new("ShaderNodeAddShader")
    links.new(diffuse.outputs[0], add.inputs[0])
    links.new(glossy.outputs[0], add.inputs[1])
    shader = add.outputs[0]
    if max(record["emission"]) > 0:
        emit = nodes.new("ShaderNodeEmission")
        emit.inputs["Color"].default_value = (*record["emission"], 1.0)
        emit.inputs["Strength"].default_value = 1.0
        add2 = nodes.new("ShaderNodeAddShader")
        links.new(shader, add2.inputs[0])
        links.new(emit.outputs[0], add2.inputs[1])
        shader = add2.outputs[0]
    links.new(shader, out.inputs["Surface"])
    return mat


def _light(record: dict, i: int) -> None:
    from mathutils import Matrix, Vector

    light = bpy.data.lights.new(f"light{i}", record["type"])
    light.color = record["color"]
    light.use_shadow = record["shadows"]
    obj = bpy.data.objects.new(f"light{i}", light)
    bpy.context.scene.collection.objects.link(obj)
    if record["type"] == "SUN":
        light.energy = record["strength"]
        light.angle = record["angle_rad"]
        obj.rotation_mode = "QUATERNION"
        obj.rotation_quaternion = Vector((0.0, 0.0, -1.0)).rotation_difference(Vector(record["direction"]))
    elif record["type"] == "POINT":
        light.energy = record["power"]
        light.shadow_soft_size = record["radius_m"]
        light.use_soft_falloff = False  # a true sphere light, as ours
        obj.location = record["location"]
    else:
        light.energy = record["power"]
        light.shape = record["shape"]
        light.size = record["size_m"]
        light.size_y = record["size_y_m"]
        light.spread = np.pi
        obj.matrix_world = Matrix(record["matrix_world"])
    obj.visible_camera = False  # ours are not visible to camera rays


def build(scene_base: str) -> None:
    from mathutils import Matrix

    record = json.loads(open(scene_base + ".json").read())
    arrays = np.load(scene_base + ".npz")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    mats = [_material(m, f"m{i}") for i, m in enumerate(record["materials"])]
    for o in record["objects"]:
        v, f = arrays[o["name"] + "_v"], arrays[o["name"] + "_f"]
        mesh = bpy.data.meshes.new(o["name"])
        mesh.from_pydata(v.tolist(), [], f.tolist())
        if o["smooth"]:
            mesh.shade_smooth()
            mesh.normals_split_custom_set_from_vertices(arrays[o["name"] + "_n"].tolist())
        else:
            mesh.shade_flat()
        mesh.materials.append(mats[o["material"]])
        obj = bpy.data.objects.new(o["name"], mesh)
        obj.cycles.shadow_terminator_geometry_offset = 0.0
        obj.cycles.shadow_terminator_offset = 0.0
        scene.collection.objects.link(obj)
    for i, light in enumerate(record["lights"]):
        _light(light, i)
    cam = record["camera"]
    data = bpy.data.cameras.new("camera")
    data.lens, data.sensor_fit, data.sensor_width = cam["lens_mm"], cam["sensor_fit"], cam["sensor_width_mm"]
    data.shift_x, data.shift_y = cam["shift_x"], cam["shift_y"]
    data.clip_start, data.clip_end = cam["clip_start_m"], cam["clip_end_m"]
    cam_obj = bpy.data.objects.new("camera", data)
    cam_obj.matrix_world = Matrix(cam["matrix_world"])
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj
    # the world: the dome's radiance for every ray, or the background colour for camera rays only
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    nodes, links = world.node_tree.nodes, world.node_tree.links
    nodes.clear()
    out = nodes.new("ShaderNodeOutputWorld")
    lit, seen = nodes.new("ShaderNodeBackground"), nodes.new("ShaderNodeBackground")
    lit.inputs["Color"].default_value = (*record["world_rgb"], 1.0)
    seen.inputs["Color"].default_value = (*record["world_camera_rgb"], 1.0)
    path, mix = nodes.new("ShaderNodeLightPath"), nodes.new("ShaderNodeMixShader")
    links.new(path.outputs["Is Camera Ray"], mix.inputs[0])
    links.new(lit.outputs[0], mix.inputs[1])
    links.new(seen.outputs[0], mix.inputs[2])
    links.new(mix.outputs[0], out.inputs["Surface"])
    scene.world = world

    c = scene.cycles
    scene.render.engine = "CYCLES"
    c.device = "CPU"
    bounces = max(record["max_bounces"] - 1, 0)
    c.max_bounces = c.diffuse_bounces = c.glossy_bounces = c.transmission_bounces = bounces
    c.transparent_max_bounces = 0
    c.volume_bounces = 0
    c.sample_clamp_direct = c.sample_clamp_indirect = 0.0
    c.blur_glossy = 0.0
    c.light_sampling_threshold = 0.0
    c.caustics_reflective = c.caustics_refractive = True
    c.use_adaptive_sampling = False
    c.use_guiding = False
    c.pixel_filter_type = "BOX"
    c.filter_width = 1.0
    c.denoiser = "OPENIMAGEDENOISE"
    c.denoising_input_passes = "RGB_ALBEDO_NORMAL"
    c.denoising_use_gpu = False
    c.seed = 0
    scene.render.resolution_x, scene.render.resolution_y = cam["resolution"]
    scene.render.resolution_percentage = 100
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    scene.render.film_transparent = False
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0


def _linear(path: str) -> np.ndarray:
    """The render result, linear RGB (H, W, 3) top row first."""
    image = bpy.data.images["Render Result"]
    image.save_render(path + ".exr")
    loaded = bpy.data.images.load(path + ".exr")
    w, h = loaded.size
    px = np.empty(w * h * 4, dtype=np.float32)
    loaded.pixels.foreach_get(px)
    bpy.data.images.remove(loaded)
    return px.reshape(h, w, 4)[::-1, :, :3].astype(np.float64)


def main() -> None:
    """Build the scene, then render each ``[samples, denoise, name]`` line read from stdin
    (``denoise``: ``off``, or OIDN's quality ``high`` or ``fast``)
    (one line of JSON each; the bench interleaves them with its own renders) and answer each
    with a ``RESULT`` line."""
    scene_base, out_dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    build(scene_base)
    scene = bpy.context.scene
    scene.render.threads_mode = "FIXED"
    scene.render.threads = threads
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    print("READY", flush=True)
    for line in sys.stdin:
        spp, denoise, name, warm = json.loads(line)
        scene.cycles.samples = spp
        scene.cycles.use_denoising = denoise != "off"
        if denoise != "off":
            scene.cycles.denoising_quality = denoise.upper()  # OIDN's filter: HIGH or FAST
        if warm:
            bpy.ops.render.render(write_still=False)  # kernels, scene sync
        start = time.perf_counter()
        bpy.ops.render.render(write_still=False)
        seconds = time.perf_counter() - start
        np.save(f"{out_dir}/{name}.npy", _linear(f"{out_dir}/{name}"))
        print("RESULT " + json.dumps({"spp": spp, "denoise": denoise, "seconds": seconds, "name": name}), flush=True)


if __name__ == "__main__":
    main()
