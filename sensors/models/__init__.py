"""Sensor models between capture and writers: pure functions on payload arrays (DESIGN §10).

``camera_sensor``: photon/read/dark noise, PRNU/DSNU, ADC, ISP and JPEG; ``depth_sensor``: an
active stereo depth camera. Numpy (and Pillow for JPEG) only, so they run on Isaac Sim payloads.
``lidar_signal`` and ``lidar_returns``: what a LiDAR reports for a return (calibrated
reflectivity, detection by signal) and a beam's echoes from its footprint (issue 17 item 5);
the embedded backend casts the rays they need.
"""
