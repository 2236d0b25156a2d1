"""scenesmith subpackage."""
